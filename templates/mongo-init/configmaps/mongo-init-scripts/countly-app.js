// Creates the demo's Countly app with the generated app key (upsert: safe to run again), so that
// the write API (/i?app_key=…) accepts the benchmark's requests.
// Env: APP_KEY, APP_NAME.
const countly = db.getSiblingDB("countly");
const res = countly.apps.updateOne(
  { key: process.env.APP_KEY },
  {
    $setOnInsert: {
      key: process.env.APP_KEY,
      name: process.env.APP_NAME,
      type: "web",
      created_at: Math.floor(Date.now() / 1000),
    },
  },
  { upsert: true },
);
print(res.upsertedCount ? "Countly app created" : "Countly app already exists");
