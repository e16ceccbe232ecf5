// Print the AMT/CIM/IPS class names two consoles read, one per line, for tests/data/consoles/.
//
//   node scripts/console_classes.js wsman-messages NODE_MODULES_DIR
//       the Classes enums of Intel's @device-management-toolkit/wsman-messages (AMT, CIM, IPS)
//   node scripts/console_classes.js meshcentral NODE_MODULES_DIR
//       every quoted class name in MeshCentral's AMT stack (amt/amt.js, the MeshCommander-derived
//       public/scripts/amt-0.2.0.js, meshcmd's amt.js) and its AMT manager (amtmanager.js, meshuser.js)
//
// Install the packages anywhere outside the repository (npm install --ignore-scripts ...) and point
// NODE_MODULES_DIR at its node_modules.
"use strict";
const fs = require("fs");
const path = require("path");

const [kind, modules] = process.argv.slice(2);
const names = new Set();
if (kind === "wsman-messages") {
    const library = require(path.join(modules, "@device-management-toolkit/wsman-messages"));
    for (const schema of ["AMT", "CIM", "IPS"]) {
        for (const name of Object.values(library[schema].Classes)) names.add(name);
    }
} else if (kind === "meshcentral") {
    const files = ["amt/amt.js", "public/scripts/amt-0.2.0.js", "agents/modules_meshcmd/amt.js", "amtmanager.js",
                   "meshuser.js"];
    for (const file of files) {
        const text = fs.readFileSync(path.join(modules, "meshcentral", file), "utf8");
        for (const match of text.matchAll(/['"*]((?:AMT|CIM|IPS)_[A-Za-z0-9]+)/g)) names.add(match[1]);
    }
} else {
    console.error("usage: node scripts/console_classes.js wsman-messages|meshcentral NODE_MODULES_DIR");
    process.exit(2);
}
console.log([...names].sort().join("\n"));
