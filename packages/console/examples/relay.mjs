#!/usr/bin/env node
// Runs a program (default: $SHELL) on a new pty and relays it to this terminal in raw mode, the way a
// container runtime attaches a terminal. Usage: node examples/relay.mjs [command [args...]]
import { spawn } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { constants as os } from "node:os";
import { createRelay, current, followWindowSize, newPty, restoreOnExit } from "@tsrun/console";

const host = current(); // the user's terminal
const restore = restoreOnExit(host); // never leave it raw, even on SIGTERM or a crash

const { master, slavePath } = newPty();
master.clearONLCR(); // the host terminal turns \n into \r\n; the pty must not do it twice
const follow = followWindowSize(host, master); // size now, and on every SIGWINCH

const slave = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
const argv = process.argv.length > 2 ? process.argv.slice(2) : [process.env.SHELL || "/bin/sh"];
// setsid --ctty: a new session with the pty as its controlling terminal, so job control and ^C work.
const child = spawn("setsid", ["--ctty", "--wait", ...argv], { stdio: [slave, slave, slave] });
closeSync(slave); // the child holds it now; once it exits the master reports EIO, the end of output

host.setRaw();
const relay = createRelay(master, { input: 0, output: 1 });
const [code, signal] = await new Promise((resolve) => child.on("exit", (c, s) => resolve([c, s])));
await relay.done; // every byte the program wrote is on the screen

follow.stop();
master.close();
host.reset();
restore.dispose();
process.exitCode = code ?? 128 + os.signals[signal];
