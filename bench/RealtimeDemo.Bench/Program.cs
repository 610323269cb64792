using RealtimeDemo.Bench;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

Console.WriteLine(options);
return 0;
