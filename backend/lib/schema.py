"""The one base for every struct that crosses the API."""

import msgspec


class Schema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """API structs: unknown fields are refused, all fields are keyword-only."""
