from convert_fixtures import digits_cal, digits_data  # noqa: F401  (fixtures for this folder)
