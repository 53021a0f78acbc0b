"""Running untrusted student code: a worker process that imports TensorFlow once and
forks one limited, unprivileged child per part (``worker``), the OS-level limits it
applies (``oslimits``), and the trusted side that drives it (``supervisor``)."""
