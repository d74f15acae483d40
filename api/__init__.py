"""The thin HTTP layer: parse input, call one service or query, return a Read schema."""
