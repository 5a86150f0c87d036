# One module per benchmark; each exposes run(ctx) -> markdown text.
