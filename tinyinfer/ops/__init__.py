"""NumPy reference implementations, one file per ONNX op or small family.

Modules here are discovered automatically (registry._load_ops); adding a file is enough.
"""
