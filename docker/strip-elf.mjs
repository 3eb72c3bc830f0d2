// Drops what an ELF executable carries beyond the segments the kernel maps: symbols, debug
// information and the section headers (18 MB of the official node binary's 127 MB, which ships
// "with debug_info, not stripped"). The loader only reads the program headers, and Node finds
// its own notes (single-executable applications) through them too; what is lost is symbol names
// for gdb and perf. NODE_IMAGE need not ship binutils: this is what `sstrip` does, in Node.
//   node docker/strip-elf.mjs FILE
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: strip-elf.mjs FILE');
const fd = openSync(file, 'r+');
const header = Buffer.alloc(64);
readSync(fd, header, 0, 64, 0);
// Only what the service images carry: 64-bit little-endian ELF (x86-64, arm64).
if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1)
  throw new Error(`${file} is not a 64-bit little-endian ELF file`);
const phoff = Number(header.readBigUInt64LE(0x20));
const phentsize = header.readUInt16LE(0x36);
const phnum = header.readUInt16LE(0x38);
const table = Buffer.alloc(phentsize * phnum);
readSync(fd, table, 0, table.length, phoff);

// The end of the last byte any segment (loaded or not: notes, dynamic, TLS) takes from the file.
let end = phoff + table.length;
for (let i = 0; i < phnum; i++) {
  const entry = i * phentsize;
  const offset = Number(table.readBigUInt64LE(entry + 0x08));
  const size = Number(table.readBigUInt64LE(entry + 0x20));
  end = Math.max(end, offset + size);
}
const before = fstatSync(fd).size;
if (end < before) {
  header.writeBigUInt64LE(0n, 0x28); // e_shoff: no section header table
  header.writeUInt16LE(0, 0x3c); // e_shnum
  header.writeUInt16LE(0, 0x3e); // e_shstrndx
  writeSync(fd, header, 0, 64, 0);
  ftruncateSync(fd, end);
}
closeSync(fd);
console.log(`strip-elf: ${file} ${(before / 1e6).toFixed(1)} MB → ${(end / 1e6).toFixed(1)} MB`);
