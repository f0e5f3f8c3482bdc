mod resolve;
