#!/usr/bin/env node
// The CLI is TypeScript run through tsx (a dependency), so it needs no build step.
require('tsx/cjs');
const { main } = require('../scripts/cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error?.stack ?? error);
    process.exitCode = 1;
  },
);
