"""Points (积分): configurable rules, the append-only ledger, awards from events, presets, rewards."""
