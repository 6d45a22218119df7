"""xAPI: the activity log as learning records for a Learning Record Store (LMS)."""
