// A classic BPF interpreter for seccomp programs, for tests: runs a program on one seccomp_data and returns the
// action, so tests check what a filter decides rather than how libseccomp laid it out.

export interface SeccompData {
  nr: number;
  arch: number;
  args?: bigint[];
}

function dataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  (d.args ?? []).forEach((a, i) => {
    b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i);
  });
  return b;
}

/** The 32-bit return value (SECCOMP_RET_*) of `program` for `d`; throws on what seccomp would refuse. */
export function runBpf(program: Buffer, d: SeccompData): number {
  const data = dataBytes(d);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  const n = program.length / 8;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    if (steps > 100_000) throw new Error("bpf: runaway program");
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // LD
        if (code === 0x20) a = data.readUInt32LE(k);
        else if (code === 0x00) a = k;
        else if (code === 0x60) a = mem[k] ?? 0;
        else throw new Error(`bpf: unsupported ld ${code.toString(16)}`);
        break;
      case 0x01: // LDX
        if (code === 0x01) x = k;
        else if (code === 0x61) x = mem[k] ?? 0;
        else throw new Error(`bpf: unsupported ldx ${code.toString(16)}`);
        break;
      case 0x02:
        mem[k] = a;
        break;
      case 0x03:
        mem[k] = x;
        break;
      case 0x04: {
        // ALU
        const op = code & 0xf0;
        const ops: Record<number, () => number> = {
          0: () => a + src,
          16: () => a - src,
          32: () => Math.imul(a, src),
          64: () => a | src,
          80: () => a & src,
          96: () => a << src,
          112: () => a >>> src,
          128: () => -a,
          160: () => a ^ src,
        };
        const f = ops[op];
        if (!f) throw new Error(`bpf: unsupported alu ${code.toString(16)}`);
        a = f() >>> 0;
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const cond =
          op === 0x10
            ? a === src
            : op === 0x20
              ? a > src
              : op === 0x30
                ? a >= src
                : op === 0x40
                  ? (a & src) !== 0
                  : null;
        if (cond === null) throw new Error(`bpf: unsupported jmp ${code.toString(16)}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06:
        return (code & 0x10 ? a : k) >>> 0;
      case 0x07:
        if (code === 0x07) x = a;
        else a = x;
        break;
    }
  }
  throw new Error("bpf: fell off the end of the program");
}
