"""An emulator of the PTX Lowbit's GPU kernels compile to, for checking
their numerics on machines without a GPU.

It runs one kernel of a PTX module (the `model.ptx` of a CUDA artifact) on
host memory: every thread of a block executes in lock step as numpy
vectors, with a program counter per thread; the threads at the smallest
counter run next, so divergent branches reconverge before the warp- and
block-wide instructions (`shfl.sync`, `bar.sync`, `wmma.*`).

Only the instructions the kernels use are implemented; any other raises
`UnsupportedInstruction`, so a change in code generation fails loudly
instead of being emulated wrongly. Floating-point arithmetic follows PTX:
f32 operations round to nearest even, `fma` rounds once (computed in
float64, then rounded; exact for products of f32), `cvt.rn.f16x2.f32`
rounds to f16. WMMA fragments use a layout of the emulator's own (PTX
leaves it unspecified and the kernels only pass fragments between `wmma`
instructions and `mov`): A/B thread t, register i, half h holds element
(16t + 2i + h) mod 256 of the row-major 16x16 tile; C/D thread t, register
i holds element 8t + i. MMA products are exact and summed in float64,
then rounded to f32 (hardware rounds at least as finely).

    from lowbit.testing.ptx_emulator import PTXModule
    PTXModule(ptx_text).run("gemv_w4_m1_k256_n40", grid, block, args)

`args` are host addresses (the kernel's pointer parameters); the memory
they point to is read and written in place through `memory`, a list of
(address, size) regions the kernel may touch.
"""
from __future__ import annotations

import ctypes
import re

import numpy as np

M32 = np.uint64(0xFFFFFFFF)
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class UnsupportedInstruction(Exception):
    pass


class Instr:
    __slots__ = ("pred", "neg", "op", "args", "text")

    def __init__(self, pred, neg, op, args, text):
        self.pred, self.neg, self.op, self.args, self.text = pred, neg, op, args, text


def _split_operands(text):
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Kernel:
    def __init__(self, name, params, body, shared):
        self.name, self.params, self.shared = name, params, shared
        self.instrs, self.labels = [], {}
        for stmt in body:
            if stmt.endswith(":"):
                self.labels[stmt[:-1]] = len(self.instrs)
                continue
            if stmt.startswith("."):
                continue  # .reg declarations
            pred = neg = None
            m = re.match(r"@(!?)(%\w+)\s+(.*)", stmt, re.S)
            if m:
                neg, pred, stmt = m.group(1) == "!", m.group(2), m.group(3)
            parts = stmt.split(None, 1)
            op = parts[0]
            args = _split_operands(parts[1]) if len(parts) > 1 else []
            self.instrs.append(Instr(pred, neg, op, args, stmt))


class PTXModule:
    def __init__(self, text):
        text = re.sub(r"//[^\n]*", "", text)
        self.kernels = {}
        for m in re.finditer(r"\.visible \.entry (\w+)\((.*?)\)(.*?)\{(.*?)\n\}", text, re.S):
            name, params, _, body = m.groups()
            pnames = re.findall(r"\.param \.\w+(?: \.ptr)?(?: \.align \d+)? (\w+)", params)
            shared = {}
            for sm in re.finditer(r"\.shared \.align (\d+) \.b8 (\w+)\[(\d+)\]", body):
                shared[sm.group(2)] = (int(sm.group(1)), int(sm.group(3)))
            body = re.sub(r"\.shared \.align \d+ \.b8 \w+\[\d+\];", "", body)
            stmts = []
            for piece in body.split(";"):
                piece = " ".join(piece.split())
                # Scoped blocks `{ .reg .b32 tmp; mov.b64 {tmp, %r1}, %rd1; }`:
                # their registers are treated as the kernel's.
                while piece.startswith("{") or piece.startswith("}"):
                    piece = piece[1:].strip()
                while True:  # labels precede statements
                    lm = re.match(r"(\$?[\w$]+):\s*(.*)", piece)
                    if not lm:
                        break
                    stmts.append(lm.group(1) + ":")
                    piece = lm.group(2)
                if piece:
                    stmts.append(piece)
            self.kernels[name] = Kernel(name, pnames, stmts, shared)

    def run(self, name, grid, block, args, memory):
        kernel = self.kernels[name]
        mem = _Memory(memory)
        for bz in range(grid[2]):
            for by in range(grid[1]):
                for bx in range(grid[0]):
                    _Block(kernel, (bx, by, bz), grid, block, args, mem).run()


class _Memory:
    """Host memory regions, read and written in place."""

    def __init__(self, regions):
        self.regions = []
        for addr, size in regions:
            buf = (ctypes.c_uint8 * size).from_address(addr)
            self.regions.append((addr, size, np.ctypeslib.as_array(buf)))

    def _region(self, addrs, nbytes):
        lo, hi = int(addrs.min()), int(addrs.max()) + nbytes
        for base, size, arr in self.regions:
            if base <= lo and hi <= base + size:
                return base, arr
        raise IndexError(f"access [{lo:#x}, {hi:#x}) outside the kernel's buffers")

    def load(self, addrs, nbytes):
        base, arr = self._region(addrs, nbytes)
        idx = (addrs.astype(np.int64) - base)[:, None] + np.arange(nbytes)
        return arr[idx]

    def store(self, addrs, data):
        base, arr = self._region(addrs, data.shape[1])
        idx = (addrs.astype(np.int64) - base)[:, None] + np.arange(data.shape[1])
        arr[idx] = data


def _f32(bits):
    return (bits & M32).astype(np.uint32).view(np.float32)


def _bits32(f):
    return np.asarray(f, np.float32).view(np.uint32).astype(np.uint64)


def _signed(bits, width):
    if width == 64:
        return bits.view(np.int64)
    if width == 16:
        return (bits & np.uint64(0xFFFF)).astype(np.uint16).view(np.int16).astype(np.int64)
    return (bits & M32).astype(np.uint32).view(np.int32).astype(np.int64)


class _Block:
    def __init__(self, kernel, ctaid, nctaid, ntid, args, mem):
        self.k, self.mem = kernel, mem
        self.n = ntid[0] * ntid[1] * ntid[2]
        self.ctaid, self.nctaid, self.ntid, self.args = ctaid, nctaid, ntid, args
        self.regs, self.preds = {}, {}
        off, self.shared_addr = 0, {}
        for sname, (align, size) in kernel.shared.items():
            off = (off + align - 1) // align * align
            self.shared_addr[sname] = off
            off += size
        self.shared = np.zeros(max(off, 1), np.uint8)
        self.pc = np.zeros(self.n, np.int64)
        self.done = np.zeros(self.n, bool)

    # Operands -------------------------------------------------------------
    def val(self, s, mask):
        s = s.strip()
        if s.startswith("%"):
            special = {"%tid.x": np.arange(self.n) % self.ntid[0],
                       "%ctaid.x": self.ctaid[0], "%ctaid.y": self.ctaid[1],
                       "%ctaid.z": self.ctaid[2], "%ntid.x": self.ntid[0],
                       "%nctaid.x": self.nctaid[0], "%nctaid.y": self.nctaid[1]}
            if s in special:
                v = special[s]
                return np.broadcast_to(np.uint64(v) if np.isscalar(v) else
                                       np.asarray(v, np.uint64), (self.n,))[mask]
            return self.regs[s][mask]
        if s in self.shared_addr:
            return np.full(int(mask.sum()), self.shared_addr[s], np.uint64)
        if s.startswith("0f"):
            return np.full(int(mask.sum()), int(s[2:], 16), np.uint64)
        if s.startswith("0d"):
            return np.full(int(mask.sum()), int(s[2:], 16), np.uint64)
        v = int(s, 0)
        return np.full(int(mask.sum()), v & 0xFFFFFFFFFFFFFFFF, np.uint64)

    def set(self, d, mask, v):
        r = self.regs.setdefault(d, np.zeros(self.n, np.uint64))
        r[mask] = np.asarray(v).astype(np.uint64)

    def addr(self, s, mask):
        m = re.fullmatch(r"\[([^+\]]+)(?:\+(-?\d+))?\]", s.replace(" ", ""))
        base = m.group(1)
        off = int(m.group(2) or 0)
        if base in self.k.params:
            return base, off
        return (self.val(base, mask) + np.uint64(off & 0xFFFFFFFFFFFFFFFF)) & M64, 0

    # Execution ------------------------------------------------------------
    def run(self):
        steps = 0
        while not self.done.all():
            live = ~self.done
            pc = self.pc[live].min()
            mask = live & (self.pc == pc)
            if pc >= len(self.k.instrs):
                raise RuntimeError(f"{self.k.name}: ran past the end")
            ins = self.k.instrs[pc]
            self.pc[mask] += 1
            exec_mask = mask
            if ins.pred:
                p = self.preds[ins.pred]
                exec_mask = mask & (~p if ins.neg else p)
            if exec_mask.any():
                self.execute(ins, exec_mask, mask)
            steps += 1
            if steps > 50_000_000:
                raise RuntimeError("no progress")

    def execute(self, ins, m, arrived):
        op, a = ins.op, ins.args
        parts = op.split(".")
        base = parts[0]
        if base == "ret":
            self.done[m] = True
            return
        if base == "bra":
            self.pc[m] = self.k.labels[a[0]]
            return
        if base == "bar":
            live = ~self.done
            if not (m == live).all():
                raise RuntimeError(f"{self.k.name}: bar.sync with threads elsewhere")
            return
        if base == "ld" and parts[1] == "param":
            name, _ = self.addr(a[1], m)
            self.set(a[0], m, np.uint64(self.args[self.k.params.index(name)]))
            return
        if base in ("ld", "st"):
            return self.memory_op(ins, m)
        if base == "shfl":
            return self.shuffle(ins, m)
        if base == "wmma":
            return self.wmma(ins, m)
        if base == "ldmatrix":
            return self.ldmatrix(ins, m)
        if base == "mma":
            return self.mma(ins, m)
        if base == "cp" and parts[1] == "async":
            return self.cp_async(ins, m)
        t = parts[-1]
        width = {"64": 64, "16": 16}.get(t[1:], 32)
        mask_w = {64: M64, 16: np.uint64(0xFFFF)}.get(width, M32)
        if base == "setp":
            cmp = parts[1]
            x, y = self.val(a[1], m), self.val(a[2], m)
            if t == "f32":
                x, y = _f32(x), _f32(y)
            elif t[0] == "s":
                x, y = _signed(x, width), _signed(y, width)
            else:
                x, y = x & mask_w, y & mask_w
            r = {"eq": x == y, "ne": x != y, "lt": x < y, "le": x <= y,
                 "gt": x > y, "ge": x >= y}[cmp]
            self.preds.setdefault(a[0], np.zeros(self.n, bool))[m] = r
            return
        if t == "pred":
            def pv(o):
                return self.preds[o][m] if o.startswith("%") else np.full(
                    int(m.sum()), int(o, 0) != 0)
            if base == "mov":
                r = pv(a[1])
            elif base == "not":
                r = ~pv(a[1])
            elif base in ("and", "or", "xor"):
                x, y = pv(a[1]), pv(a[2])
                r = {"and": x & y, "or": x | y, "xor": x ^ y}[base]
            else:
                raise UnsupportedInstruction(ins.text)
            self.preds.setdefault(a[0], np.zeros(self.n, bool))[m] = r
            return
        if base == "selp":
            p = self.preds[a[3]][m]
            self.set(a[0], m, np.where(p, self.val(a[1], m), self.val(a[2], m)))
            return
        if base == "mov" and (a[0].startswith("{") or a[1].startswith("{")):
            return self.mov_vector(ins, m)
        if t in ("f16", "f16x2") and base != "cvt":
            return self.half_op(ins, m)
        if base == "mov" or (base == "cvta" and parts[1] == "to"):
            self.set(a[0], m, self.val(a[1], m) & mask_w)
            return
        if base == "cvt":
            return self.convert(ins, m)
        if t == "f32":
            return self.float_op(ins, m)
        x = self.val(a[1], m) & mask_w
        y = self.val(a[2], m) & mask_w if len(a) > 2 else None
        if base == "add":
            r = x + y
        elif base == "sub":
            r = x - y
        elif base == "mul" and parts[1] == "wide":
            r = (x & M32) * (y & M32)
            mask_w = M64
        elif base == "mul" and parts[1] == "lo":
            r = x * y
        elif base == "mul" and parts[1] == "hi" and width < 64:
            if t[0] == "s":
                r = ((_signed(x, width) * _signed(y, width)) >> width).astype(np.uint64)
            else:
                r = (x * y) >> np.uint64(width)
        elif base == "mad" and parts[1] == "lo":
            r = x * y + (self.val(a[3], m) & mask_w)
        elif base == "and":
            r = x & y
        elif base == "or":
            r = x | y
        elif base == "xor":
            r = x ^ y
        elif base == "not":
            r = ~x
        elif base == "shl":
            s = y & np.uint64(0xFF)
            r = np.where(s >= width, np.uint64(0), x << np.minimum(s, np.uint64(63)))
        elif base == "shr":
            s = y & np.uint64(0xFF)
            if t[0] == "s":
                r = (_signed(x, width) >> np.minimum(s, np.uint64(width - 1)).astype(np.int64)
                     ).astype(np.uint64)
            else:
                r = np.where(s >= width, np.uint64(0), x >> np.minimum(s, np.uint64(63)))
        elif base in ("min", "max"):
            if t[0] == "s":
                xs, ys = _signed(x, width), _signed(y, width)
                r = (np.minimum(xs, ys) if base == "min" else np.maximum(xs, ys)).astype(np.uint64)
            else:
                r = np.minimum(x, y) if base == "min" else np.maximum(x, y)
        elif base == "bfe" and t in ("u32", "u64"):
            pos, length = y, self.val(a[3], m) & M32
            r = (x >> pos) & ((np.uint64(1) << length) - np.uint64(1))
        else:
            raise UnsupportedInstruction(ins.text)
        self.set(a[0], m, r & mask_w)

    def float_op(self, ins, m):
        base, a = ins.op.split(".")[0], ins.args
        if ".rn" not in ins.op and base not in ("neg", "abs", "min", "max"):
            raise UnsupportedInstruction(ins.text)
        x = _f32(self.val(a[1], m))
        if base == "neg":
            r = -x
        elif base == "abs":
            r = np.abs(x)
        else:
            y = _f32(self.val(a[2], m))
            if base == "add":
                r = x + y
            elif base == "sub":
                r = x - y
            elif base == "mul":
                r = x * y
            elif base == "fma":
                z = _f32(self.val(a[3], m))
                r = (x.astype(np.float64) * y + z).astype(np.float32)
            else:
                raise UnsupportedInstruction(ins.text)
        self.set(a[0], m, _bits32(r))

    def convert(self, ins, m):
        op, a = ins.op, ins.args
        im = re.fullmatch(r"cvt\.([us])(8|16|32|64)\.([us])(8|16|32|64)", op)
        if im:
            # Integer to integer: truncate, or extend by the source's sign.
            dw, sk, sw = int(im.group(2)), im.group(3), int(im.group(4))
            v = self.val(a[1], m) & np.uint64((1 << sw) - 1)
            if sk == "s" and dw > sw:
                neg = (v >> np.uint64(sw - 1)) & np.uint64(1)
                v = v | (neg * np.uint64(((1 << 64) - 1) ^ ((1 << sw) - 1)))
            self.set(a[0], m, v & np.uint64((1 << dw) - 1) if dw < 64 else v)
        elif op == "cvt.f32.f16":
            # Exact: every f16 is an f32.
            h = (self.val(a[1], m) & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
            self.set(a[0], m, _bits32(h.astype(np.float32)))
        elif op == "cvt.rn.f16.f32":
            h = _f32(self.val(a[1], m)).astype(np.float16).view(np.uint16)
            self.set(a[0], m, h.astype(np.uint64))
        elif op == "cvt.rn.f16x2.f32":
            hi = _f32(self.val(a[1], m)).astype(np.float16).view(np.uint16).astype(np.uint64)
            lo = _f32(self.val(a[2], m)).astype(np.float16).view(np.uint16).astype(np.uint64)
            self.set(a[0], m, (hi << np.uint64(16)) | lo)
        else:
            raise UnsupportedInstruction(ins.text)

    def memory_op(self, ins, m):
        parts, a = ins.op.split("."), ins.args
        space = parts[1]
        vec = 1
        for p in parts:
            if p.startswith("v") and p[1:].isdigit():
                vec = int(p[1:])
        width = int(parts[-1][1:]) // 8
        regs_text = a[0] if parts[0] == "ld" else a[1]
        regs = [r.strip() for r in regs_text.strip("{}").split(",")]
        where = a[1] if parts[0] == "ld" else a[0]
        addrs, _ = self.addr(where, m)
        nbytes = vec * width
        if space == "shared":
            idx = addrs.astype(np.int64)[:, None] + np.arange(nbytes)
            if parts[0] == "ld":
                data = self.shared[idx]
            else:
                data = self._pack(regs, m, width)
                self.shared[idx] = data
                return
        elif space == "global":
            if parts[0] == "ld":
                data = self.mem.load(addrs, nbytes)
            else:
                self.mem.store(addrs, self._pack(regs, m, width))
                return
        else:
            raise UnsupportedInstruction(ins.text)
        dt = {4: np.uint32, 8: np.uint64, 2: np.uint16, 1: np.uint8}[width]
        vals = np.ascontiguousarray(data).view(dt).reshape(-1, vec)
        for i, r in enumerate(regs):
            self.set(r, m, vals[:, i].astype(np.uint64))

    def _pack(self, regs, m, width):
        dt = {4: np.uint32, 8: np.uint64, 2: np.uint16, 1: np.uint8}[width]
        cols = [self.val(r, m).astype(dt) for r in regs]
        return np.ascontiguousarray(np.stack(cols, 1)).view(np.uint8)

    def shuffle(self, ins, m):
        if ins.op != "shfl.sync.bfly.b32":
            raise UnsupportedInstruction(ins.text)
        a = ins.args
        if not self._whole_warps(m):
            raise RuntimeError(f"{self.k.name}: shfl.sync with part of a warp")
        src = self.regs[a[1]].copy()
        lane_xor = int(self.val(a[2], m)[0])
        idx = np.arange(self.n)
        partner = (idx & ~31) | ((idx & 31) ^ lane_xor)
        self.set(a[0], m, src[partner][m])

    def mov_vector(self, ins, m):
        """`mov.b32 %r, {%h0, %h1}` packs (low first); `mov.b32 {%h0, %h1},
        %r` unpacks."""
        a = ins.args
        if ins.op not in ("mov.b32", "mov.b64"):
            raise UnsupportedInstruction(ins.text)
        if a[1].startswith("{"):
            parts = [p.strip() for p in a[1].strip("{}").split(",")]
            width = (32 if ins.op == "mov.b32" else 64) // len(parts)
            r = np.zeros(int(m.sum()), np.uint64)
            for i, p in enumerate(parts):
                r |= (self.val(p, m) & np.uint64((1 << width) - 1)) << np.uint64(width * i)
            self.set(a[0], m, r)
            return
        parts = [p.strip() for p in a[0].strip("{}").split(",")]
        width = (32 if ins.op == "mov.b32" else 64) // len(parts)
        v = self.val(a[1], m)
        for i, p in enumerate(parts):
            if p != "_":
                self.set(p, m, (v >> np.uint64(width * i)) & np.uint64((1 << width) - 1))

    def half_op(self, ins, m):
        """f16 and f16x2 arithmetic: each half rounded to nearest even
        once (computed in float64; exact for products and sums of f16)."""
        parts, a = ins.op.split("."), ins.args
        base, lanes = parts[0], 2 if parts[-1] == "f16x2" else 1
        if base == "mov":
            self.set(a[0], m, self.val(a[1], m))
            return
        if base not in ("add", "sub", "mul", "fma", "neg"):
            raise UnsupportedInstruction(ins.text)
        if any(q in parts for q in ("rz", "rm", "rp", "sat", "ftz")):
            raise UnsupportedInstruction(ins.text)  # only round-to-nearest
        ops = [self.val(x, m) for x in a[1:]]
        r = np.zeros(int(m.sum()), np.uint64)
        for h in range(lanes):
            sh = np.uint64(16 * h)
            xs = [((o >> sh) & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
                  .astype(np.float64) for o in ops]
            if base == "add":
                v = xs[0] + xs[1]
            elif base == "sub":
                v = xs[0] - xs[1]
            elif base == "mul":
                v = xs[0] * xs[1]
            elif base == "fma":
                v = xs[0] * xs[1] + xs[2]
            else:
                v = -xs[0]
            bits = v.astype(np.float16).view(np.uint16).astype(np.uint64)
            r |= bits << sh
        self.set(a[0], m, r)

    # ldmatrix, mma.sync (m16n8k16), cp.async ------------------------------
    def ldmatrix(self, ins, m):
        """ldmatrix.sync.aligned.m8n8.x4.shared.b16: lanes 8i .. 8i + 7 give
        the row addresses of matrix i; lane l gets, in register i, row l / 4,
        columns 2 (l % 4) and + 1 of matrix i."""
        if ins.op != "ldmatrix.sync.aligned.m8n8.x4.shared.b16":
            raise UnsupportedInstruction(ins.text)
        if not self._whole_warps(m):
            raise RuntimeError(f"{self.k.name}: ldmatrix with part of a warp")
        regs = [r.strip() for r in ins.args[0].strip("{}").split(",")]
        addrs = np.zeros(self.n, np.int64)
        addrs[m] = self.addr(ins.args[1], m)[0].astype(np.int64)
        tid = np.arange(32)
        for w in np.nonzero(m.reshape(-1, 32).all(1))[0]:
            lanes = w * 32 + tid
            for i, r in enumerate(regs):
                row_addr = addrs[w * 32 + 8 * i + tid // 4] + 4 * (tid % 4)
                data = self.shared[row_addr[:, None] + np.arange(4)]
                v = np.ascontiguousarray(data).view(np.uint32)[:, 0]
                self.regs.setdefault(r, np.zeros(self.n, np.uint64))[lanes] = v
        return

    def mma(self, ins, m):
        """mma.sync m16n8k16, f16 A (row) and B (col), f32 C and D, in the
        PTX ISA's fragment layouts (g = lane / 4, t = lane % 4): A register
        j holds rows g + 8 (j % 2), columns 2t + 8 (j / 2) and + 1; B
        register j rows (k) 2t + 8 j and + 1 of column g; C register j row g
        + 8 (j / 2), column 2t + j % 2. Products are exact, summed in
        float64 and rounded to f32 once."""
        if ins.op != "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32":
            raise UnsupportedInstruction(ins.text)
        if not self._whole_warps(m):
            raise RuntimeError(f"{self.k.name}: mma.sync with part of a warp")
        d, ar, br, cr = ([r.strip() for r in x.strip("{}").split(",")] for x in ins.args)
        tid = np.arange(32)
        g, t = tid // 4, tid % 4

        def halves(reg, lanes):
            v = self.regs[reg][lanes]
            lo = (v & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
            hi = ((v >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
            return lo.astype(np.float64), hi.astype(np.float64)

        for w in np.nonzero(m.reshape(-1, 32).all(1))[0]:
            lanes = w * 32 + tid
            A = np.zeros((16, 16))
            for j, r in enumerate(ar):
                lo, hi = halves(r, lanes)
                row, col = g + 8 * (j % 2), 2 * t + 8 * (j // 2)
                A[row, col], A[row, col + 1] = lo, hi
            B = np.zeros((16, 8))
            for j, r in enumerate(br):
                lo, hi = halves(r, lanes)
                B[2 * t + 8 * j, g], B[2 * t + 8 * j + 1, g] = lo, hi
            C = np.zeros((16, 8))
            for j, r in enumerate(cr):
                C[g + 8 * (j // 2), 2 * t + j % 2] = _f32(self.regs[r][lanes])
            D = (A @ B + C).astype(np.float32)
            for j, r in enumerate(d):
                self.regs.setdefault(r, np.zeros(self.n, np.uint64))[lanes] = \
                    _bits32(D[g + 8 * (j // 2), 2 * t + j % 2])

    def cp_async(self, ins, m):
        """cp.async copies complete only at a cp.async.wait_group that
        covers their group, so a missing wait reads stale shared memory."""
        parts, a = ins.op.split("."), ins.args
        if not hasattr(self, "async_open"):
            self.async_open = np.zeros(self.n, np.int64)
            self.async_pending = []  # (threads, group per thread, dst, data)
        if ins.op == "cp.async.commit_group":
            self.async_open[m] += 1
            return
        if ins.op == "cp.async.wait_group" or ins.op == "cp.async.wait_all":
            keep = int(self.val(a[0], m)[0]) if a else 0
            still = []
            for threads, group, dst, data in self.async_pending:
                done = m[threads] & (group < self.async_open[threads] - keep)
                if done.any():
                    idx = dst[done][:, None] + np.arange(data.shape[1])
                    self.shared[idx] = data[done]
                if (~done).any():
                    still.append((threads[~done], group[~done], dst[~done], data[~done]))
            self.async_pending = still
            return
        if parts[:4] != ["cp", "async", "cg", "shared"] or parts[4] != "global":
            raise UnsupportedInstruction(ins.text)
        size = int(self.val(a[2], m)[0])
        if size != 16 or len(a) != 3:
            raise UnsupportedInstruction(ins.text)
        dst = self.addr(a[0], m)[0].astype(np.int64)
        src = self.addr(a[1], m)[0]
        data = self.mem.load(src, size).copy()
        threads = np.nonzero(m)[0]
        self.async_pending.append((threads, self.async_open[threads].copy(), dst, data))

    def _whole_warps(self, m):
        w = m.reshape(-1, 32)
        return bool(((w.all(1)) | (~w.any(1))).all())

    # WMMA (m16n16k16, f16 inputs, f32 accumulators) -----------------------
    def wmma(self, ins, m):
        if not self._whole_warps(m):
            raise RuntimeError(f"{self.k.name}: wmma with part of a warp")
        op, a = ins.op, ins.args
        warps = np.nonzero(m.reshape(-1, 32).all(1))[0]
        tid = np.arange(32)
        if op.startswith("wmma.load."):
            layout = op.split(".")[5]
            if not op.endswith(".shared.f16") or "m16n16k16" not in op:
                raise UnsupportedInstruction(ins.text)
            regs = [r.strip() for r in a[0].strip("{}").split(",")]
            for w in warps:
                lanes = w * 32 + tid
                addr = self._tile_addresses(a[1], a[2], lanes, layout, 2)
                tile = self.shared[addr[:, None] + np.arange(2)].copy().view(np.uint16)[:, 0]
                for i, r in enumerate(regs):
                    e0 = (tid * 16 + 2 * i) % 256
                    v = tile[e0].astype(np.uint64) | (tile[(e0 + 1) % 256].astype(np.uint64) << np.uint64(16))
                    self.regs.setdefault(r, np.zeros(self.n, np.uint64))[lanes] = v
            return
        if op.startswith("wmma.mma."):
            if op != "wmma.mma.sync.aligned.row.col.m16n16k16.f32.f32":
                raise UnsupportedInstruction(ins.text)
            d, ar, br, cr = ([r.strip() for r in x.strip("{}").split(",")] for x in a)
            for w in warps:
                lanes = w * 32 + tid
                A = self._half_tile(ar, lanes).reshape(16, 16).astype(np.float64)
                B = self._half_tile(br, lanes).reshape(16, 16).astype(np.float64)
                C = self._f32_tile(cr, lanes).reshape(16, 16).astype(np.float64)
                D = (A @ B + C).astype(np.float32).reshape(-1)
                for i, r in enumerate(d):
                    self.regs.setdefault(r, np.zeros(self.n, np.uint64))[lanes] = _bits32(D[tid * 8 + i])
            return
        if op.startswith("wmma.store.d."):
            if op != "wmma.store.d.sync.aligned.row.m16n16k16.shared.f32":
                raise UnsupportedInstruction(ins.text)
            regs = [r.strip() for r in a[1].strip("{}").split(",")]
            for w in warps:
                lanes = w * 32 + tid
                D = self._f32_tile(regs, lanes)
                addr = self._tile_addresses(a[0], a[2], lanes, "row", 4)
                self.shared[addr[:, None] + np.arange(4)] = D.view(np.uint8).reshape(256, 4)
            return
        raise UnsupportedInstruction(ins.text)

    def _tile_addresses(self, where, stride, lanes, layout, element_bytes):
        """Shared-memory byte addresses of the 256 elements of a warp's
        16x16 tile, row-major order: element (i, j) (A: m, k; B: k, n; C: m,
        n) at i * stride + j (row) or j * stride + i (col)."""
        lm = np.zeros(self.n, bool)
        lm[lanes] = True
        base, _ = self.addr(where, lm)
        ld = int(self.val(stride, lm)[0])
        rr, cc = np.divmod(np.arange(256), 16)
        off = rr * ld + cc if layout == "row" else cc * ld + rr
        return int(base[0]) + element_bytes * off

    def _half_tile(self, regs, lanes):
        tile = np.zeros(256, np.float16)
        for i, r in enumerate(regs):
            v = self.regs[r][lanes]
            e0 = (np.arange(32) * 16 + 2 * i) % 256
            tile[e0] = (v & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
            tile[(e0 + 1) % 256] = ((v >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16)
        return tile

    def _f32_tile(self, regs, lanes):
        tile = np.zeros(256, np.float32)
        for i, r in enumerate(regs):
            tile[np.arange(32) * 8 + i] = _f32(self.regs[r][lanes])
        return tile
