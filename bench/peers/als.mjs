// The aws-local-stepfunctions peer of the dmap benchmarks (bench/src/peers/als.rs runs it).
//
//   node als.mjs MODULE engine DEFINITION N
//   node als.mjs MODULE inline-map DEFINITION N JSONL OUT_DIR
//   node als.mjs MODULE waiting DEFINITION N
//
// MODULE is the path of the installed package's ES module (build/main.node.esm.js): the package
// lives in the benchmark's temporary install folder, not next to this script, so it is imported
// by path. DEFINITION is an ASL file written by the benchmark.
//
// engine      runs the child state machine once per item, one execution after another
//             (`await machine.run(item).result`, as StartExecution would), over N generated items
//             {"id": i, "v": i, "name": "item-i"}, after an untimed warm-up on N/10 items; the
//             timed loop is what dmap's `bench engine` times: executions only.
// inline-map  reads the first N lines of the JSONL file (the same data dmap's Map Run reads), runs
//             the definition (an inline Map over $.Items) once with {"Items": [...]}, and writes
//             the Map's output as one JSON array to OUT_DIR/results.json, all of it timed.
// waiting     runs the definition (an inline Map over $.Items whose children wait) once over N
//             generated items.
//
// Prints one JSON line: {"mode", "items", "succeeded", "seconds"}, and exits non-zero on any
// failure. The seconds leave out node's start and the package's import (about 0.1 s), which
// dmap's timings include: the difference favours this peer.

import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [modulePath, mode, definitionPath, ...rest] = process.argv.slice(2);
const { StateMachine } = await import(pathToFileURL(modulePath).href);
const definition = JSON.parse(readFileSync(definitionPath, 'utf8'));

function generate(n) {
  return Array.from({ length: n }, (_, i) => ({ id: i, v: i, name: `item-${i}` }));
}

async function readJsonl(path, n) {
  const items = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (items.length === n) break;
    if (line.trim() !== '') items.push(JSON.parse(line));
  }
  lines.close();
  if (items.length !== n) throw new Error(`${path} holds ${items.length} items, ${n} wanted`);
  return items;
}

async function engine(n) {
  const machine = new StateMachine(definition);
  const runAll = async (items) => {
    let ok = 0;
    for (const item of items) {
      const output = await machine.run(item).result;
      if (output !== undefined) ok += 1;
    }
    return ok;
  };
  await runAll(generate(Math.max(1, Math.floor(n / 10))));
  const items = generate(n);
  const start = performance.now();
  const succeeded = await runAll(items);
  return { succeeded, seconds: (performance.now() - start) / 1000 };
}

async function inlineMap(jsonl, n, outDir) {
  const start = performance.now();
  const items = await readJsonl(jsonl, n);
  const output = await new StateMachine(definition).run({ Items: items }).result;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(output));
  const seconds = (performance.now() - start) / 1000;
  // The 5-state child tags every non-negative item; an output without the tag means the
  // definition did not run as dmap runs it.
  const succeeded = output.filter((o) => o.sign === 'non-negative' && o.meta?.by === 'dmap').length;
  return { succeeded, seconds };
}

async function waiting(n) {
  const items = generate(n);
  const start = performance.now();
  const output = await new StateMachine(definition).run({ Items: items }).result;
  return { succeeded: output.length, seconds: (performance.now() - start) / 1000 };
}

const n = Number(rest[0]);
let result;
switch (mode) {
  case 'engine':
    result = await engine(n);
    break;
  case 'inline-map':
    result = await inlineMap(rest[1], n, rest[2]);
    break;
  case 'waiting':
    result = await waiting(n);
    break;
  default:
    throw new Error(`unknown mode ${mode}`);
}
console.log(JSON.stringify({ mode, items: n, ...result }));
