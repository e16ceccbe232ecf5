"""Serial-over-LAN: the host's serial console over AMT's redirection port (see :mod:`amtkit.sol.session`)."""

from amtkit.sol.session import SOLControl, SOLParameters, SOLSession, SOLSessionClosed, SOLTimeout

__all__ = ["SOLControl", "SOLParameters", "SOLSession", "SOLSessionClosed", "SOLTimeout"]
