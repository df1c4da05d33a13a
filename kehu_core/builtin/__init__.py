"""The core's own hook implementations, registered like plugins and marked ``trylast``."""
