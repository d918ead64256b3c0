// The tsrun executable's entry. Relays park threadpool threads in blocking reads of our stdin (O_NONBLOCK there
// would leak into the user's shell), so the pool gets room for them, and the end is _exit, which does not wait
// for those threads the way process.exit's libuv teardown would.
process.env.UV_THREADPOOL_SIZE ??= "8";
const { main } = await import("./main.js");
const { exitNow } = await import("@tsrun/libcontainer");

main(process.argv.slice(2)).then(
  (code) => exitNow(code),
  (e) => {
    process.stderr.write(`${e}\n`);
    exitNow(1);
  },
);
