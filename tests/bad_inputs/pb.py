"""A few lines of protobuf encoding, for hand-made hostile files the onnx package refuses to write."""


def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def field(number: int, payload) -> bytes:
    """A varint field for an int, a length-delimited field for bytes/str."""
    if isinstance(payload, int):
        return key(number, 0) + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return key(number, 2) + varint(len(payload)) + payload


def model(graph: bytes, opset: int = 17, ir_version: int = 8) -> bytes:
    return field(1, ir_version) + field(8, field(2, opset)) + field(7, graph)


def value_info(name: str, type_proto: bytes = b"") -> bytes:
    return field(1, name) + (field(2, type_proto) if type_proto else b"")


def tensor_type(elem: int, dims) -> bytes:
    shape = b"".join(field(1, field(1, d)) for d in dims)
    return field(1, field(1, elem) + field(2, shape))


def identity_graph(extra: bytes = b"") -> bytes:
    """y = Identity(x), x and y float[2]."""
    node = field(1, "x") + field(2, "y") + field(4, "Identity")
    return (field(1, node) + field(2, "g") + field(11, value_info("x", tensor_type(1, [2])))
            + field(12, value_info("y", tensor_type(1, [2]))) + extra)
