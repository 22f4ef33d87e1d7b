"""Attribute values: pure string -> value parsers (colors, lengths, transforms, path data)
and their inverse number formatting. No scene objects, no document: float64 NumPy / floats."""
