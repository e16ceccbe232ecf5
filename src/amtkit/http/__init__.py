"""HTTP-level protocol pieces shared by the client and the simulator (sans-IO)."""
