"""What the workspace shows a person about a naskah: its progress, overviews, page previews."""
