"""Admin command line: `python manage.py --help`."""

from flask.cli import FlaskGroup

from blogapi import create_app

cli = FlaskGroup(create_app=create_app, help="Run and administer blogapi.")

if __name__ == "__main__":
    cli()
