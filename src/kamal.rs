//! Placeholder: the Kamal editor is being written (issue 3).
