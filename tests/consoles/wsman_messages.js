// The requests Intel's WS-Man library (@device-management-toolkit/wsman-messages) builds for every class
// it names: its Get and Enumerate messages, as JSON {class: {"get": xml, "enumerate": xml}} on stdout.
// The Pull it builds for an enumeration context is printed by: node wsman_messages.js DIR pull CLASS CONTEXT
//
// usage: node wsman_messages.js WSMAN_MESSAGES_NODE_MODULES [pull CLASS CONTEXT]
'use strict';
const path = require('path');

const [modules, verb, className, context] = process.argv.slice(2);
const library = require(path.join(modules, '@device-management-toolkit', 'wsman-messages'));
const out = {};
for (const schema of ['AMT', 'CIM', 'IPS']) {
    const messages = new library[schema].Messages();
    for (const key of Object.keys(messages)) {
        const builder = messages[key];
        if (builder == null || typeof builder !== 'object' || typeof builder.className !== 'string') continue;
        const entry = {};
        for (const [op, fn] of [['get', 'Get'], ['enumerate', 'Enumerate']]) {
            if (typeof builder[fn] === 'function') {
                try { entry[op] = builder[fn](); } catch (ex) { /* needs arguments: not a plain read */ }
            }
        }
        if (verb === 'pull' && builder.className === className) {
            process.stdout.write(JSON.stringify(builder.Pull(context)) + '\n');
            process.exit(0);
        }
        out[builder.className] = entry;
    }
}
process.stdout.write(JSON.stringify(out) + '\n');
