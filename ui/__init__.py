"""Qt views for the VidMusician panel; the logic they bind to lives in vm_editor."""
