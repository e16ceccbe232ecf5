"""amtkit: out-of-band management of Intel AMT / vPro machines."""
