"""Identity, versions, general settings and provisioning of a device."""

from __future__ import annotations

from dataclasses import dataclass, field

from amtkit.codes import ControlMode, ProvisioningState


@dataclass
class GeneralBackend:
    amt_version: str
    build_number: str
    sku: str
    guid: str
    hostname: str
    domain: str
    realm: str
    provisioning_state: ProvisioningState = ProvisioningState.POST
    control_mode: ControlMode = ControlMode.ADMIN
    ping_response_enabled: bool = True
    rmcp_ping_response_enabled: bool = True
    network_interface_enabled: bool = True
    extra_settings: dict[str, object] = field(default_factory=dict)

    @property
    def provisioned(self) -> bool:
        return self.provisioning_state == ProvisioningState.POST

    def software_versions(self) -> list[tuple[str, str]]:
        """``CIM_SoftwareIdentity`` rows as AMT lists them (InstanceID, VersionString)."""
        version = self.amt_version
        three = ".".join(version.split(".")[:3])
        return [
            ("Flash", three), ("Netstack", three), ("AMTApps", three), ("AMT", three),
            ("Sku", self.sku), ("VendorID", "8086"), ("Build Number", self.build_number),
            ("Recovery Version", three), ("Recovery Build Num", self.build_number),
            ("Legacy Mode", "False"), ("AMT FW Core Version", three),
        ]
