"""5G CPE modems: the `Modem` interface, an AT channel, vendor parsers, and a Modbus register path.

Layout: `link.py` (LinkState, ServingCell), `at.py` (AT command channel over any pyserial URL),
`base.py` (Modem / ATModem), one small module per vendor (`quectel`, `huawei`, `sierra`,
`generic`), `vendors.py` (vendor registry and detection), `modbus.py` (routers that publish their
link state in Modbus registers) and `registry.py` (lab-file `modem:` sections -> specs).
"""
