"""onnxlint's built-in rule catalog: one module per rule, registered automatically."""
