"""Modbus robot driver: register maps, their codec, client transports."""
