// Serve an image over IDE-R with MeshCentral's own modules, wired as MeshCentral's server wires them
// (amt/amt-ider.js: CreateAmtRedirect(CreateAmtRemoteIder(webserver, meshcentral), ...), diskSetup, Start).
// The objects MeshCentral's server would pass in are stand-ins holding just what the two modules read.
//
// usage: node meshcentral_ider.js MESHCENTRAL_DIR HOST PORT USER PASSWORD (cd|floppy) IMAGE [START]
// stdout: one JSON object a line: {"state": n} on each redirection state change (3 = IDE-R running),
//         {"read": [drive, lba, blocks]} for each read the module serves, {"error": code} from diskSetup.
'use strict';
const path = require('path');
const net = require('net');

const [mcDir, host, port, user, pass, device, image, start] = process.argv.slice(2);
const redirModule = require(path.join(mcDir, 'amt', 'amt-redir-mesh.js'));
const iderModule = require(path.join(mcDir, 'amt', 'amt-ider-module.js'));
const forge = require(require.resolve('node-forge', { paths: [mcDir] }));

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

const nodeid = 'node//amtsim';
const node = { _id: nodeid, meshid: 'mesh//amtsim', host: host, intelamt: { user: user, pass: pass, tls: 0 } };
const webserver = { common: require(path.join(mcDir, 'common.js')) };
const meshcentral = {
    debugLevel: 0,
    db: { Get: function (id, callback) { callback(null, id == nodeid ? [node] : []); } },
    GetConnectivityState: function () { return { connectivity: 4 }; },  // 4: direct Intel AMT connection
    mpsserver: { GetConnectionToNode: function () { return null; } },      // no CIRA
    certificateOperations: { forge: forge },
};
const owner = { name: 'amtkit-test', links: { 'mesh//amtsim': { rights: 0xFFFFFFFF } } };

const redir = redirModule.CreateAmtRedirect(iderModule.CreateAmtRemoteIder(webserver, meshcentral), { id: '' }, owner,
                                            webserver, meshcentral);
// MeshCentral always dials 16994; the simulated device listens on a free port instead.
redir.net = { Socket: function () {
    const socket = new net.Socket();
    const connect = socket.connect.bind(socket);
    socket.connect = function (p, h, callback) { return connect(Number(port), h, callback); };
    return socket;
} };
redir.onStateChanged = function (sender, state) { emit({ state: state }); if (state == 0) { setTimeout(function () { process.exit(0); }, 50); } };
redir.m.iderStart = start || '1';
redir.m.sectorStats = function (mode, dev, total, lba, len) { if (mode == 1) { emit({ read: [dev, lba, len] }); } };
const error = redir.m.diskSetup(device == 'floppy' ? image : null, device == 'cd' ? image : null);
if (error != 0) { emit({ error: error }); process.exit(2); }
redir.Start(nodeid);
