"""What LMS exports and uploads share: the results folder, the roster, the feedback comment; and the Canvas upload."""
