// MeshCentral's AMT WS-Man stack (amt/amt-wsman-comm.js, amt-wsman.js, amt.js: MeshCommander's lineage)
// doing what MeshCentral's amtmanager.js does with a device, against one simulated device.
//
// usage: node meshcentral_wsman.js MESHCENTRAL_DIR HOST PORT USER PASSWORD STEP
// STEP: power (the power poll: CIM_ServiceAvailableToElement, then IPS_PowerManagementService when on),
//       hardware (the hardware inventory BatchEnum), settings (the settings and TLS sync BatchEnums),
//       off-on (RequestPowerStateChange 8 then 2 at once, as a script would), consent (StartOptIn),
//       time (GetLowAccuracyTimeSynch)
// stdout: one JSON object with what MeshCentral would have read.
'use strict';
const path = require('path');

const [mcDir, host, port, user, pass, step] = process.argv.slice(2);
const CreateWsmanComm = require(path.join(mcDir, 'amt', 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(mcDir, 'amt', 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(mcDir, 'amt', 'amt.js'));

const comm = CreateWsmanComm(host, Number(port), user, pass, 0, null, null);
const stack = AmtStackCreateService(WsmanStackCreateService(comm));
function done(result) { process.stdout.write(JSON.stringify(result) + '\n'); process.exit(0); }
function summary(responses) {
    const out = {};
    for (const name of Object.keys(responses)) {
        const r = responses[name];
        out[name] = { status: r.status, count: r.responses ? r.responses.length : (r.response ? 1 : 0),
                      items: r.responses || (r.response ? [r.response] : []) };
    }
    return out;
}

if (step === 'power') {
    stack.BatchEnum(null, ['CIM_ServiceAvailableToElement'], function (s, name, responses, status) {
        const item = responses['CIM_ServiceAvailableToElement'].responses[0];
        if (item.PowerState != 2) { done({ status: status, PowerState: item.PowerState, available: item.AvailableRequestedPowerStates }); return; }
        stack.Get('IPS_PowerManagementService', function (s2, n2, response, status2) {
            done({ status: status, PowerState: item.PowerState, available: item.AvailableRequestedPowerStates,
                   osStatus: status2, OSPowerSavingState: response.Body.OSPowerSavingState });
        });
    });
} else if (step === 'hardware') {
    stack.BatchEnum('', ['*CIM_ComputerSystemPackage', 'CIM_SystemPackaging', '*CIM_Chassis', 'CIM_Chip', '*CIM_Card',
                         '*CIM_BIOSElement', 'CIM_Processor', 'CIM_PhysicalMemory', 'CIM_MediaAccessDevice',
                         'CIM_PhysicalPackage', 'AMT_EthernetPortSettings'],
                    function (s, name, responses, status) { done({ status: status, responses: summary(responses) }); });
} else if (step === 'settings') {
    stack.BatchEnum('', ['*AMT_GeneralSettings', '*IPS_HostBasedSetupService', '*AMT_RedirectionService',
                         '*CIM_KVMRedirectionSAP', '*IPS_OptInService', 'AMT_PublicKeyCertificate',
                         'AMT_PublicPrivateKeyPair', 'AMT_TLSSettingData', 'AMT_TLSCredentialContext',
                         '*AMT_BootCapabilities', '*AMT_BootSettingData', 'CIM_SoftwareIdentity',
                         '*AMT_SetupAndConfigurationService', '*AMT_EnvironmentDetectionSettingData',
                         '*IPS_KVMRedirectionSettingData', '*AMT_TimeSynchronizationService', '*AMT_AuthorizationService',
                         '*AMT_8021XProfile', 'AMT_WiFiPortConfigurationService', '*AMT_RemoteAccessService',
                         'AMT_ManagementPresenceRemoteSAP', '*AMT_UserInitiatedConnectionService'],
                    function (s, name, responses, status) { done({ status: status, responses: summary(responses) }); });
} else if (step === 'off-on') {
    const results = [];
    stack.RequestPowerStateChange(8, function (s, name, response, status) {
        results.push({ status: status, ReturnValue: response.Body.ReturnValue });
        stack.RequestPowerStateChange(2, function (s2, n2, response2, status2) {
            results.push({ status: status2, ReturnValue: response2.Body.ReturnValue });
            done({ results: results });
        });
    });
} else if (step === 'consent') {
    stack.IPS_OptInService_StartOptIn(function (s, name, response, status) {
        done({ status: status, ReturnValue: response.Body.ReturnValue });
    });
} else if (step === 'time') {
    stack.AMT_TimeSynchronizationService_GetLowAccuracyTimeSynch(function (s, name, response, status) {
        done({ status: status, ReturnValue: response.Body.ReturnValue, Ta0: response.Body.Ta0 });
    });
} else {
    process.stderr.write('unknown step ' + step + '\n');
    process.exit(2);
}
