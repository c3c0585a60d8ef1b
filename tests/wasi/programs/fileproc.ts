// fileproc.ts - the AssemblyScript (wasi-shim) build of fileproc.c: the same
// command on WASI preview 1 directly (the shim gives process.argv/env/exit;
// files go through the wasi_snapshot_preview1 bindings). Its stdout, stderr,
// exit code and output files must be byte-identical to the native C build's.
import {
  fd_close, fd_prestat_get, fd_prestat_dir_name, fd_read, fd_readdir, fd_seek, fd_write,
  path_create_directory, path_filestat_get, path_open, path_rename, path_unlink_file,
  prestat, filestat
} from "bindings/wasi_snapshot_preview1";

const RIGHTS_READ: u64 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 14) | (1 << 21); // read seek tell readdir filestat_get
const RIGHTS_WRITE: u64 = (1 << 6) | (1 << 2) | (1 << 5) | (1 << 22); // write seek tell set_size
const O_CREAT: u16 = 1, O_DIRECTORY: u16 = 2, O_TRUNC: u16 = 8;

const scratch = heap.alloc(64); // result words

function out(fd: u32, bytes: Uint8Array): void {
  const iov = heap.alloc(8);
  store<u32>(iov, bytes.dataStart);
  store<u32>(iov, <u32>bytes.length, 4);
  fd_write(fd, iov, 1, scratch);
  heap.free(iov);
}
function print(fd: u32, s: string): void {
  out(fd, Uint8Array.wrap(String.UTF8.encode(s)));
}

function strerror(e: u32): string {
  if (e == 44) return "No such file or directory";
  if (e == 20) return "File exists";
  if (e == 69) return "Read-only file system";
  if (e == 2) return "Permission denied";
  return "errno " + e.toString();
}

function bytesOf(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

// path_open relative to dirfd; returns fd or -errno.
function open(dirfd: u32, path: string, oflags: u16, rights: u64): i32 {
  const p = bytesOf(path);
  const e = path_open(dirfd, 1, p.dataStart, p.length, oflags, rights, rights, 0, scratch);
  return e == 0 ? <i32>load<u32>(scratch) : -(<i32>e);
}

function readAll(fd: u32): Uint8Array {
  let buf = new Uint8Array(4096);
  let len = 0;
  const iov = heap.alloc(8);
  while (true) {
    if (len == buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    store<u32>(iov, buf.dataStart + len);
    store<u32>(iov, buf.length - len, 4);
    if (fd_read(fd, iov, 1, scratch) != 0) break;
    const n = load<u32>(scratch);
    if (n == 0) break;
    len += n;
  }
  heap.free(iov);
  return buf.subarray(0, len);
}

function writeFile(dirfd: u32, path: string, data: Uint8Array): i32 {
  const fd = open(dirfd, path, O_CREAT | O_TRUNC, RIGHTS_WRITE);
  if (fd < 0) return fd;
  out(<u32>fd, data);
  fd_close(<u32>fd);
  return 0;
}

function cmpBytes(a: string, b: string): i32 {
  const x = bytesOf(a), y = bytesOf(b);
  const n = min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] != y[i]) return <i32>x[i] - <i32>y[i];
  return x.length - y.length;
}

function isspace(c: u8): bool {
  return c == 32 || (c >= 9 && c <= 13);
}

function pad(s: string, width: i32, left: bool): string {
  while (s.length < width) s = left ? s + " " : " " + s;
  return s;
}

function hex8(v: u32): string {
  let s = v.toString(16);
  while (s.length < 8) s = "0" + s;
  return s;
}

// The preopen whose guest name is exactly `name`, or -1.
function findPreopen(name: string): i32 {
  for (let fd: u32 = 3; fd < 64; fd++) {
    if (fd_prestat_get(fd, changetype<prestat>(scratch)) != 0) continue;
    const len = load<u32>(scratch, 4);
    const buf = new Uint8Array(len);
    fd_prestat_dir_name(fd, buf.dataStart, len);
    if (String.UTF8.decode(buf.buffer) == name) return <i32>fd;
  }
  return -1;
}

function main(): i32 {
  const argv = process.argv;
  if (argv.length < 2) {
    print(2, "usage: fileproc DIR [--exit N]\n");
    return 2;
  }
  const dir = argv[1];
  const exitCode = argv.length > 3 && argv[2] == "--exit" ? I32.parseInt(argv[3]) : 0;
  const greeting = process.env.has("GREETING") ? process.env.get("GREETING") : "(none)";
  print(1, "greeting: " + greeting + "\n");

  const pre = findPreopen(dir);
  const dfd = pre < 0 ? -44 : open(<u32>pre, ".", O_DIRECTORY, RIGHTS_READ | (1 << 13) | (1 << 9) | (1 << 10) | (1 << 16) | (1 << 17) | (1 << 26) | (1 << 18));
  if (dfd < 0) {
    print(2, "fileproc: cannot open " + dir + ": " + strerror(-dfd) + "\n");
    return 1;
  }
  const root = <u32>pre;
  // List the directory.
  const names = new Array<string>();
  const buf = new Uint8Array(65536);
  let cookie: u64 = 0;
  while (true) {
    if (fd_readdir(<u32>dfd, buf.dataStart, buf.length, cookie, scratch) != 0) break;
    const used = load<u32>(scratch);
    let at: u32 = 0;
    let complete = false;
    while (at + 24 <= used) {
      const p = buf.dataStart + at;
      const namlen = load<u32>(p, 16);
      if (at + 24 + namlen > used) break;
      cookie = load<u64>(p);
      const name = String.UTF8.decode(buf.buffer.slice(at + 24, at + 24 + namlen));
      if (!name.startsWith(".")) names.push(name);
      at += 24 + namlen;
      complete = at == used;
    }
    if (used < <u32>buf.length && complete) break;
    if (used == 0) break;
  }
  fd_close(<u32>dfd);
  names.sort(cmpBytes);

  const outDir = bytesOf("out");
  const me = path_create_directory(root, outDir.dataStart, outDir.length);
  if (me != 0 && me != 20) {
    print(2, "fileproc: mkdir out: " + strerror(me) + "\n");
    return 1;
  }
  let report = "";
  let files = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const np = bytesOf(name);
    const isDir = path_filestat_get(root, 1, np.dataStart, np.length, changetype<filestat>(scratch)) == 0 &&
      load<u8>(scratch, 16) == 3;
    const isReg = load<u8>(scratch, 16) == 4;
    if (!isReg) {
      print(1, "skip " + name + " (" + (isDir ? "directory" : "other") + ")\n");
      continue;
    }
    const fd = open(root, name, 0, RIGHTS_READ);
    if (fd < 0) {
      print(2, "fileproc: " + name + ": " + strerror(-fd) + "\n");
      continue;
    }
    const data = readAll(<u32>fd);
    fd_close(<u32>fd);
    let lines: u32 = 0, words: u32 = 0, hash: u32 = 2166136261, inword = false;
    const upper = new Uint8Array(data.length);
    for (let k = 0; k < data.length; k++) {
      const c = data[k];
      hash = (hash ^ <u32>c) * 16777619;
      if (c == 10) lines++;
      if (isspace(c)) inword = false;
      else if (!inword) { inword = true; words++; }
      upper[k] = c >= 97 && c <= 122 ? c - 32 : c;
    }
    writeFile(root, "out/" + name + ".upper", upper);
    print(1, pad(name, 16, true) + " " + pad(lines.toString(), 5, false) + " " +
      pad(words.toString(), 5, false) + " " + pad(data.length.toString(), 6, false) + " " +
      hex8(hash) + "\n");
    report += name + " " + lines.toString() + " " + words.toString() + " " +
      data.length.toString() + " " + hex8(hash) + "\n";
    files++;
  }
  report += "files " + files.toString() + "\n";
  const w = writeFile(root, "out/report.tmp", bytesOf(report));
  if (w < 0) {
    print(2, "fileproc: cannot create report: " + strerror(-w) + "\n");
    return 1;
  }
  const a = bytesOf("out/report.tmp"), b = bytesOf("out/report.txt");
  const re = path_rename(root, a.dataStart, a.length, root, b.dataStart, b.length);
  if (re != 0) {
    print(2, "fileproc: rename: " + strerror(re) + "\n");
    return 1;
  }
  const r = open(root, "out/report.txt", 0, RIGHTS_READ);
  fd_seek(<u32>r, 0, 2, scratch);
  const size = load<u64>(scratch);
  fd_seek(<u32>r, size > 8 ? <i64>size - 8 : 0, 0, scratch);
  const tail = new Uint8Array(8);
  const iov = heap.alloc(8);
  store<u32>(iov, tail.dataStart);
  store<u32>(iov, 8, 4);
  fd_read(<u32>r, iov, 1, scratch);
  const got = load<u32>(scratch);
  fd_close(<u32>r);
  for (let k: u32 = 0; k < got; k++) if (tail[k] == 10) tail[k] = 124;
  print(1, "report " + size.toString() + " bytes, tail " + got.toString() + ": ");
  out(1, tail.subarray(0, got));
  print(1, "\n");

  const missing = open(root, "does-not-exist", 0, RIGHTS_READ);
  if (missing < 0) print(1, "missing: " + strerror(-missing) + "\n");
  writeFile(root, "out/scratch", bytesOf("x"));
  const s = bytesOf("out/scratch");
  print(1, "unlink scratch: " + (path_unlink_file(root, s.dataStart, s.length) == 0 ? "0" : "-1") + "\n");
  const again = path_unlink_file(root, s.dataStart, s.length);
  print(1, "unlink again: " + (again == 0 ? "ok" : strerror(again)) + "\n");
  print(2, "fileproc: " + files.toString() + " files\n");
  return exitCode;
}

// Top-level code is the command's _start (wasi-shim's asconfig: exportStart).
process.exit(main());
