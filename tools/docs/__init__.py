"""What draws the docs: the panel's screenshots (`make screenshots`) and the user guide's
pictures (`make guide-pictures`)."""
