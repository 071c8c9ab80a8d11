from keystead.cli import main

if __name__ == "__main__":  # not when a worker process (spawn) re-imports it
    main()
