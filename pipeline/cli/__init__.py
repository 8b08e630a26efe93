"""The command line: the `newsvault` console command, option checking, and what query commands
share (the archive they open, where output may go). Commands themselves live in
``pipeline/commands/`` (Scrapy's COMMANDS_MODULE)."""
