"""The monthly bulletin (通报, SPEC §10): the campaign office's document of the month."""
