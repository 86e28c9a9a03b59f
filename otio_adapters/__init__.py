"""OpenTimelineIO plugin glue for VidMusician (media linker, hooks), declared in a manifest."""
