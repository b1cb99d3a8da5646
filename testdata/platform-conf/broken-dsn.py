SQLALCHEMY_DATABASE_URI = "mysql://root@localhost/eiq"
