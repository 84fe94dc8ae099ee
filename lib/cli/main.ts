#!/usr/bin/env node
/**
 * `scseg`: `scseg --version` is answered before any module of the command line loads (commander, the workflows:
 * a third of what that short command waited for); everything else runs program.ts.
 */
import { packageVersion } from '../segmentation/run-manifest.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) console.log(packageVersion());
else await (await import('./program.js')).main(process.argv);
