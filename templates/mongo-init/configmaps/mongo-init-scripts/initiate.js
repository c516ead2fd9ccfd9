// Initiates one replica set, once: safe to run again (an initiated set is left alone).
// Env: RS (set name), MEMBERS (host:port,…), CONFIGSVR ("true" for the config servers).
const rsName = process.env.RS;
const members = process.env.MEMBERS.split(",").map((host, i) => ({ _id: i, host }));
let initiated = false;
try {
  const status = db.adminCommand({ replSetGetStatus: 1 });
  initiated = status.ok === 1;
} catch (e) {
  if (e.codeName !== "NotYetInitialized") throw e;
}
if (initiated) {
  print(`replica set ${rsName} is already initiated`);
} else {
  const config = { _id: rsName, members };
  if (process.env.CONFIGSVR === "true") config.configsvr = true;
  const res = db.adminCommand({ replSetInitiate: config });
  if (res.ok !== 1 && res.codeName !== "AlreadyInitialized") throw new Error(JSON.stringify(res));
  print(`replica set ${rsName} initiated with ${members.length} members`);
}
// Wait (bounded) for a primary, so the next wave finds a writable set.
const deadline = Date.now() + 120000;
while (!db.hello().isWritablePrimary && !db.hello().primary) {
  if (Date.now() > deadline) {
    throw new Error(`replica set ${rsName} elected no primary within 120s`);
  }
  sleep(1000);
}
print(`replica set ${rsName} has a primary: ${db.hello().primary}`);
