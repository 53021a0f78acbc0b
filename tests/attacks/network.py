"""Open a network connection to a port on 127.0.0.1 that the test listens on (the way
to send hidden material out, or to fetch answers), at import and from a child."""

BASE = "assignment"
PARTS = ("architecture", "concepts")
TARGET = "concepts.py"
ZERO = ("6.",)
CODE = r'''
import socket as _socket
_outcome = []
for _family, _address in ((_socket.AF_INET, ("127.0.0.1", __PORT__)),):
    try:
        with _socket.create_connection(_address, timeout=3) as _connection:
            _connection.sendall(b"__MARKER__ leaked")
            _outcome.append("connected")
    except OSError as _error:
        _outcome.append(type(_error).__name__)
print("__MARKER__ network:", _outcome)
'''
