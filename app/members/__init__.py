"""Members as staff see them: search by status and tier, a member's record, edits, erasure."""
