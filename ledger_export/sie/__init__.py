"""SIE 4: read any SIE file, validate it, and write our vouchers as a type 4I import file.

Entry points: ``reader.read_sie`` / ``read_sie_file``, ``validate.validate`` /
``validate_file`` / ``run_validate``, ``writer.render_sie``.
"""
