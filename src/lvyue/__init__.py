"""lvyue (履约): fulfilment rules as data, a compliance engine and logistics diagnosis."""
