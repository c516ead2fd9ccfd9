// A task that fails the way its argument says; used by lib/errors_test.ts.
import { CncfdemoError, runMain, UsageError } from "../../lib/errors.ts";

runMain((args) => {
  switch (args[0]) {
    case "usage":
      throw new UsageError('Cannot parse --nodes "abc": expected a whole number ≥ 1');
    case "failure":
      throw new CncfdemoError(
        "Cannot reach the API server at https://127.0.0.1:1: connection refused",
        {
          cause: new Error("ECONNREFUSED"),
        },
      );
    case "bug":
      throw new TypeError("x is undefined\n    at somewhere");
    case "code":
      return Promise.resolve(3);
    default:
      return Promise.resolve();
  }
});
