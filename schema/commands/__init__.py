"""The write path's GraphQL types: commands, their inputs, enums and rejections."""
