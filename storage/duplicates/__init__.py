"""The master patient index: match keys, candidate duplicate pairs and their decisions, merges and unmerges."""
