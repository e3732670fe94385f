"""The bundled demo site: fictional Vietnamese outlets served on 127.0.0.1 for demos and tests."""
