"""The model definitions: MTLFace's recognition model (recognition.py)."""
