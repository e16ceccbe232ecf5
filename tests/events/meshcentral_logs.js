// MeshCentral's AMT stack (amt/amt.js, MeshCommander's lineage: the code behind their Event Log and
// Audit Log views) reading one simulated device's logs.
//
// usage: node meshcentral_logs.js MESHCENTRAL_DIR HOST PORT USER PASSWORD
// stdout: one JSON object {events: [{sensor, entity, desc}], audit: [{app, event, initiator, address, ex}]}
'use strict';
const path = require('path');

const [mcDir, host, port, user, pass] = process.argv.slice(2);
const CreateWsmanComm = require(path.join(mcDir, 'amt', 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(mcDir, 'amt', 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(mcDir, 'amt', 'amt.js'));

const stack = AmtStackCreateService(WsmanStackCreateService(CreateWsmanComm(host, Number(port), user, pass, 0, null, null)));
stack.GetMessageLog(function (s, messages, tag, status) {
    if (messages == null) { process.stdout.write(JSON.stringify({ error: 'GetMessageLog', status: status }) + '\n'); process.exit(1); }
    const events = messages.map(m => ({ sensor: m.EventSensorType, entity: m.EntityStr, desc: m.Desc }));
    stack.GetAuditLog(function (s2, records, status2) {
        const audit = records.map(r => ({ app: r.AuditApp, event: r.Event, initiator: r.Initiator,
                                          address: r.NetAddress, ex: r.ExStr || null }));
        process.stdout.write(JSON.stringify({ events: events, audit: audit, status: status2 }) + '\n');
        process.exit(0);
    });
});
